"""The floor of the engine: the shared vocabulary, configuration, errors, the text toolkit and the packaged models' locations.
Imports nothing else from the project."""
