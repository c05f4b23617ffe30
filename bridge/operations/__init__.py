"""What an operator runs beside the product: health (`confrere status`) and backups."""
