"""The Slack adapter: the notifier (every post), the Bolt app and its two connection modes."""
