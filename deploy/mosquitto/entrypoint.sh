#!/bin/sh
# Write Mosquitto's password file from the environment, then start the broker.
#   GRIDHUB_MQTT_PASSWORD    password of the hub's own identity "gridhub"
#   PATROL_DEVICE_PASSWORDS  "P01:secret1 P02:secret2 …", one identity per device
set -eu
passwd=/mosquitto/data/passwd
rm -f "$passwd"
touch "$passwd"
chmod 0700 "$passwd"
mosquitto_passwd -b "$passwd" gridhub "$GRIDHUB_MQTT_PASSWORD"
for pair in ${PATROL_DEVICE_PASSWORDS:-}; do
    mosquitto_passwd -b "$passwd" "${pair%%:*}" "${pair#*:}"
done
chown mosquitto:mosquitto "$passwd" 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
