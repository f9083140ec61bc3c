"""Agent-based ecosystem simulator: people, a knowledge platform and an AI assistant, with and without a policy."""
