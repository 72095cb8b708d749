//! lowbit websockets
