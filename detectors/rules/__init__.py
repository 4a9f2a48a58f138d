"""Generic zone rules on tracked objects: intrusion, crowding, loitering, line crossing."""
