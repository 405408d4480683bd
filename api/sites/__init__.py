"""Sites and their cameras: sites made on first mention, camera health from edge boxes, the site
configuration edge boxes fetch, and the false-alarm memory the edge boxes suppress with."""
