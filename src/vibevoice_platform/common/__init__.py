"""What the tts service and the agent share: request reading and validation, the command line.

Both images ship the whole ``vibevoice_platform`` package, so either service may import this.
"""
