"""The HTTP edge of the API: request guards (body sizes, slots, validation answers) and the multipart
reader."""
