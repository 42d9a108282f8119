#pragma once
#include <mpi.h>

#include "kron/core/deck.hpp"
#include "kron/layout/axis_grid.hpp"
#include "kron/layout/fft.hpp"
#include "kron/layout/hdf5_io.hpp"
#include "kron/layout/process_grid.hpp"

namespace kron::layout {

/// Declares [grid], [parallel], [fft] and [output]: the deck sections the layout layer reads.
void declare_sections(core::Schema& schema);

/// The domain of [grid]; errors name the offending key (and coordinate file line).
Domain make_domain(const core::Deck& deck);
/// The process grid of [parallel] (or the automatic choice) on `comm`.
ProcessGridPtr make_process_grid(const core::Deck& deck, const Domain& domain, MPI_Comm comm);
FftOptions fft_options(const core::Deck& deck);
H5WriteOptions output_options(const core::Deck& deck);

}  // namespace kron::layout
