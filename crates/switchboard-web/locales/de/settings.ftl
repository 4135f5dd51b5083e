# settings pages
