"""The thin layer every router uses: API keys and roles, request dependencies, the one error shape."""
