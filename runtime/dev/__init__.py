"""The embedded development stack: everything `voxflow dev` runs on one machine."""
