"""The notification outbox, its writing side: notifications added in the caller's transaction, and the
notices read back from them for the channels."""
