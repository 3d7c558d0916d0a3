"""A run's results as data: the model and its JSON files, the machine's facts, and the one
analysis that derives every figure and status from them."""
