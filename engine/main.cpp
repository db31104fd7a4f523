// SPDX-License-Identifier: MIT
#include "cli/main.hpp"

int main(int argc, char** argv) {
    return rollback::cli::main(argc, argv);
}
