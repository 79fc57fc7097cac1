"""Device models: the MMIO bus, interrupt controllers, UART, virtio, power control."""
