"""Boards: memory maps, devices, boot flows. ``create_board`` picks one by its -M name."""
