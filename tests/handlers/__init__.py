"""Tests of the Bolt listeners: buttons and their values."""
