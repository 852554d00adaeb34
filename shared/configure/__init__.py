"""Configure MTD connectors: the desired settings, Intune's rules, and the verified write."""
