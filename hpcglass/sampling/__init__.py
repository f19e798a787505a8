"""Sample preparation: NVT MD and the continuous quench (md), FIRE minimisation (minimize)."""
