"""Files: native model files, safe NVlabs pickle import, data sets, atomic writes."""
