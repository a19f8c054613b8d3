"""Every architecture by name (registry) and the model modules: rec/, det/, cls/."""
