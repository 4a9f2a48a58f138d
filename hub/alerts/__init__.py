"""Alert intake: camera and sensor alerts are de-duplicated, given evidence and become cases."""
