"""QR try-on at pop-ups: tags, the try-on page, try-on holds, the staff queue and the funnel."""
