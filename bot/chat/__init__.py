"""What a message is, whatever the chat: the text markup every feature writes its messages in."""
