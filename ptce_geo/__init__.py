"""ptce-geo: atlas of France's pôles territoriaux de coopération économique (PTCE)."""

__version__ = "0.1.0"
