"""Patient cases and téléexpertises: opaque ids, typed encrypted rooms, the request's states."""
