"""The demo site: rendered camera scenes, simulated patrols and a simulated duty operator."""
