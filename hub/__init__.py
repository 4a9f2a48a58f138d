"""gridhub: video-and-sensor security hub for grid-based community governance."""

__version__ = "0.1.0"
