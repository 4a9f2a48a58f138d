"""Object-detection backends behind the `ObjectModel` Protocol (see `base`)."""
