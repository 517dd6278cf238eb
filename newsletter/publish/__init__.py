"""Publishing beyond mail: the web archive and the monthly digest."""
