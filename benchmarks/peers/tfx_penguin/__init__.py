"""TFX 1.16 penguin tutorial pipeline: the peer of the penguins example in pipeline_speed.py."""
