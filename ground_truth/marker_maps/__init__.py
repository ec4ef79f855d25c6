"""Built-in marker-set mappings (TOML data read by :mod:`ground_truth.marker_mapping`; format in
docs/marker-sets.md). A package only so that the TOML files install with stancebench."""
