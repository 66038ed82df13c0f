"""Build, boot and drive QEMU guests that exercise a clean-room VFIO."""
