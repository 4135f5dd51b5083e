# shop pages
