# The shop pages: catalog editor, links and QR codes, statistics, broadcasts.
shop-ok-saved = Saved.
shop-ok-created = Created.
shop-ok-deleted = Deleted.
shop-ok-sent = The broadcast is on its way.
shop-ok-cancelled = Cancelled.
shop-ok-added = Added to the list.
shop-save = Save
shop-delete = Delete
shop-delete-named = Delete { $name }
shop-edit-named = Edit { $name }

shop-catalog-title = Catalog
shop-product-new = Add a product
shop-product-name = Name
shop-product-description = Description
shop-product-price = Price
shop-price-hint = For example 2.50 (a decimal point or comma).
shop-product-currency = Currency (ISO code, e.g. EUR)
shop-product-sku = SKU
shop-product-image = Photo
shop-product-new-image = New photo (replaces the current one)
shop-product-available = Available
shop-product-add = Add product
shop-product-photo-of = Photo of { $name }
shop-products = Products
shop-products-empty = No products yet.
shop-available = available
shop-unavailable = not available
shop-name-required = Please enter a name.
shop-price-empty = Please enter a price.
shop-price-invalid = The price must be a number such as 2.50, without signs or thousands separators.
shop-price-decimals = { $digits ->
    [0] This currency has no decimal places: enter a whole number.
    [one] This currency has only one decimal place.
   *[other] This currency has only { $digits } decimal places: enter a price such as 2.50.
}
shop-price-too-large = The price is too large.
shop-currency-invalid = Unknown currency: use an ISO 4217 code such as EUR or USD.
shop-upload-unreadable = The form could not be read (is the photo too large?).
shop-collections = Collections
shop-collections-empty = No collections yet.
shop-collection-new = New collection
shop-collection-name = Collection name
shop-collection-add = Create collection
shop-collection-count = { $count ->
    [one] 1 product
   *[other] { $count } products
}

shop-links-title = Links and QR codes
shop-links-intro = A link opens a chat with your business, with a text already typed in. Print the QR code on a flyer or your shop window.
shop-link-new = New link
shop-link-text = Prefilled text (optional)
shop-link-text-hint = Up to 140 characters, e.g. "Hello, I would like to order".
shop-link-create = Create link
shop-links-list = Your links
shop-links-empty = No links yet.
shop-link-no-text = No prefilled text
shop-link-opens = { $count ->
    [one] Opened once
   *[other] Opened { $count } times
}
shop-qr-alt = QR code for { $url }
shop-qr-download = Download QR code (PNG)
shop-link-delete-named = Delete link { $code }

shop-stats-title = Statistics
shop-stats-range = Date range
shop-stats-from = From
shop-stats-to = To
shop-stats-show = Show
shop-stats-csv = Download CSV
shop-stats-totals = Totals
shop-stats-per-day = Per day
shop-stats-date = Date
shop-stat-sent = Sent
shop-stat-delivered = Delivered
shop-stat-read = Read
shop-stat-received = Received
shop-stat-first-responses = First responses
shop-stat-resolutions = Resolved
shop-stat-avg-first-response = Average first response
shop-stat-avg-resolution = Average resolution time
shop-chart-messages = Messages per day
shop-chart-team = First responses and resolved conversations per day

shop-bc-title = Broadcasts
shop-bc-intro = A broadcast reaches only the customers on the list who agreed to receive them.
shop-bc-lists = Lists
shop-bc-lists-empty = No lists yet.
shop-bc-members = { $count ->
    [one] 1 member
   *[other] { $count } members
}
shop-bc-add-to = Add phone numbers to { $name }
shop-bc-phones-hint = One number per line, with the country code (+49 …).
shop-bc-add = Add
shop-bc-phones-empty = Please enter at least one phone number.
shop-bc-not-registered = Not added (no Switchboard account): { $phones }
shop-bc-list-new = New list
shop-bc-list-name = List name
shop-bc-list-create = Create list
shop-bc-send-title = Send a broadcast
shop-bc-list = List
shop-bc-text = Message
shop-bc-at = Send at (optional, UTC)
shop-bc-at-hint = Leave empty to send now.
shop-bc-time-invalid = The time could not be read.
shop-bc-send = Send broadcast
shop-bc-sends = Sends
shop-bc-sends-empty = Nothing sent yet.
shop-bc-progress = Progress
shop-bc-sent-count = { $count } sent
shop-bc-skipped-count = { $count } skipped
shop-bc-total-count = { $count } in total
shop-bc-cancel = Cancel
shop-send-scheduled = Scheduled
shop-send-sending = Sending
shop-send-done = Done
shop-send-cancelled = Cancelled
