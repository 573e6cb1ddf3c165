"""motifs."""
