"""Users, workspaces, memberships and roles, teams and API tokens."""
