"""acl package."""
