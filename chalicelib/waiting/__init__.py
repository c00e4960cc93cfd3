"""The waiting room in front of a drop's launch: tickets, the queue's frontier, admission passes."""
