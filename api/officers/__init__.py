"""Safety officers: enrolment from photos (embeddings only, encrypted), the gallery edge boxes fetch, and
the presence timeline built from sightings."""
