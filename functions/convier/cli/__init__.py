"""The `convier` command: argument parsing and printing only. `target` is the composition root that wires
the embedded default (`convier.local`) in; nothing outside `cli` may import `convier.local`."""
