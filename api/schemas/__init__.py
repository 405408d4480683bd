"""What the API reads and writes (split by direction: In, Public), one module per resource; shared
validation in :mod:`api.schemas.base`."""
