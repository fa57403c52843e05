import Ports
