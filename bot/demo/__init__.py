"""What the demo ships with: a simulated cloud, a fake Slack and a console renderer, on loopback."""
