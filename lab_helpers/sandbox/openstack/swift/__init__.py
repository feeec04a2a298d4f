"""Swift (object store): the account, containers, objects, large objects."""
