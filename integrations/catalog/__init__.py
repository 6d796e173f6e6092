"""Dell server catalogs: reading Catalog.xml and fetching it from files, mirrors and URLs."""
