"""User profiles (fields, propagation into rooms) and the user directory."""
