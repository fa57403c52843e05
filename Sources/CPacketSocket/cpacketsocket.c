#include "cpacketsocket.h"
