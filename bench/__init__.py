"""Load benchmark: the emulator's full rule path against bare amqtt and mosquitto brokers."""
