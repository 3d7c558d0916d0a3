"""Planning: the cells of a matrix or a sweep, their profiles and the soft limits, all checked
before anything runs."""
