# Die Shop-Seiten: Katalog, Links und QR-Codes, Statistik, Broadcasts.
shop-ok-saved = Gespeichert.
shop-ok-created = Angelegt.
shop-ok-deleted = Gelöscht.
shop-ok-sent = Der Broadcast ist unterwegs.
shop-ok-cancelled = Abgebrochen.
shop-ok-added = Zur Liste hinzugefügt.
shop-save = Speichern
shop-delete = Löschen
shop-delete-named = { $name } löschen
shop-edit-named = { $name } bearbeiten

shop-catalog-title = Katalog
shop-product-new = Produkt hinzufügen
shop-product-name = Name
shop-product-description = Beschreibung
shop-product-price = Preis
shop-price-hint = Zum Beispiel 2,50 (mit Komma oder Punkt).
shop-product-currency = Währung (ISO-Code, z. B. EUR)
shop-product-sku = Artikelnummer
shop-product-image = Foto
shop-product-new-image = Neues Foto (ersetzt das bisherige)
shop-product-available = Verfügbar
shop-product-add = Produkt hinzufügen
shop-product-photo-of = Foto von { $name }
shop-products = Produkte
shop-products-empty = Noch keine Produkte.
shop-available = verfügbar
shop-unavailable = nicht verfügbar
shop-name-required = Bitte gib einen Namen ein.
shop-price-empty = Bitte gib einen Preis ein.
shop-price-invalid = Der Preis muss eine Zahl wie 2,50 sein, ohne Vorzeichen oder Tausenderpunkte.
shop-price-decimals = { $digits ->
    [0] Diese Währung hat keine Nachkommastellen: gib eine ganze Zahl ein.
    [one] Diese Währung hat nur eine Nachkommastelle.
   *[other] Diese Währung hat nur { $digits } Nachkommastellen: gib einen Preis wie 2,50 ein.
}
shop-price-too-large = Der Preis ist zu hoch.
shop-currency-invalid = Unbekannte Währung: nutze einen ISO-4217-Code wie EUR oder USD.
shop-upload-unreadable = Das Formular konnte nicht gelesen werden (ist das Foto zu groß?).
shop-collections = Sammlungen
shop-collections-empty = Noch keine Sammlungen.
shop-collection-new = Neue Sammlung
shop-collection-name = Name der Sammlung
shop-collection-add = Sammlung anlegen
shop-collection-count = { $count ->
    [one] 1 Produkt
   *[other] { $count } Produkte
}

shop-links-title = Links und QR-Codes
shop-links-intro = Ein Link öffnet einen Chat mit deinem Unternehmen, mit einem schon eingetippten Text. Drucke den QR-Code auf einen Flyer oder ins Schaufenster.
shop-link-new = Neuer Link
shop-link-text = Vorausgefüllter Text (optional)
shop-link-text-hint = Bis zu 140 Zeichen, z. B. „Hallo, ich möchte bestellen“.
shop-link-create = Link erstellen
shop-links-list = Deine Links
shop-links-empty = Noch keine Links.
shop-link-no-text = Kein vorausgefüllter Text
shop-link-opens = { $count ->
    [one] Einmal geöffnet
   *[other] { $count }-mal geöffnet
}
shop-qr-alt = QR-Code für { $url }
shop-qr-download = QR-Code herunterladen (PNG)
shop-link-delete-named = Link { $code } löschen

shop-stats-title = Statistik
shop-stats-range = Zeitraum
shop-stats-from = Von
shop-stats-to = Bis
shop-stats-show = Anzeigen
shop-stats-csv = CSV herunterladen
shop-stats-totals = Summen
shop-stats-per-day = Pro Tag
shop-stats-date = Datum
shop-stat-sent = Gesendet
shop-stat-delivered = Zugestellt
shop-stat-read = Gelesen
shop-stat-received = Empfangen
shop-stat-first-responses = Erste Antworten
shop-stat-resolutions = Erledigt
shop-stat-avg-first-response = Durchschnittliche erste Antwort
shop-stat-avg-resolution = Durchschnittliche Bearbeitungszeit
shop-chart-messages = Nachrichten pro Tag
shop-chart-team = Erste Antworten und erledigte Unterhaltungen pro Tag

shop-bc-title = Broadcasts
shop-bc-intro = Ein Broadcast erreicht nur die Kundinnen und Kunden der Liste, die zugestimmt haben.
shop-bc-lists = Listen
shop-bc-lists-empty = Noch keine Listen.
shop-bc-members = { $count ->
    [one] 1 Mitglied
   *[other] { $count } Mitglieder
}
shop-bc-add-to = Telefonnummern zu { $name } hinzufügen
shop-bc-phones-hint = Eine Nummer pro Zeile, mit Ländervorwahl (+49 …).
shop-bc-add = Hinzufügen
shop-bc-phones-empty = Bitte gib mindestens eine Telefonnummer ein.
shop-bc-not-registered = Nicht hinzugefügt (kein Switchboard-Konto): { $phones }
shop-bc-list-new = Neue Liste
shop-bc-list-name = Name der Liste
shop-bc-list-create = Liste anlegen
shop-bc-send-title = Broadcast senden
shop-bc-list = Liste
shop-bc-text = Nachricht
shop-bc-at = Senden um (optional, UTC)
shop-bc-at-hint = Leer lassen, um sofort zu senden.
shop-bc-time-invalid = Die Uhrzeit konnte nicht gelesen werden.
shop-bc-send = Broadcast senden
shop-bc-sends = Sendungen
shop-bc-sends-empty = Noch nichts gesendet.
shop-bc-progress = Fortschritt
shop-bc-sent-count = { $count } gesendet
shop-bc-skipped-count = { $count } übersprungen
shop-bc-total-count = { $count } insgesamt
shop-bc-cancel = Abbrechen
shop-send-scheduled = Geplant
shop-send-sending = Wird gesendet
shop-send-done = Fertig
shop-send-cancelled = Abgebrochen
