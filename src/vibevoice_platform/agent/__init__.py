"""The voice agent service: answers a user's turn with a reply spoken through the tts service.

The reply text streams from Anthropic's Messages API (official SDK) when an API key is set,
else from a deterministic local responder; each complete sentence goes to tts at once, so
audio starts after the first sentence. See docs/agent-service.md.
"""
