! poisson.f90: a small simulation code in Fortran on kron's module `kron`.
!
! The code owns its communicator and its arrays u(nx_local, ny_local, 1) of its x-pencil box; kron
! wraps them (no copy). It solves lap u = f on [0,1]^2 with Dirichlet data from a Fortran function
! (the exact solution u = sin(pi x) sin(pi y) + x^2 - y^2) by second-order differences on two
! grids, checks the errors and their order, writes the finer solution to HDF5/XDMF, and shows
! kron's error message for a bad argument.
!
!   mpirun -n 3 ./poisson_f [OUTPUT_DIR]
module boundary_data
  use, intrinsic :: iso_c_binding
  implicit none
  real(c_double), parameter :: pi = acos(-1.0_c_double)
contains
  real(c_double) function exact(x, y)
    real(c_double), intent(in) :: x, y
    exact = sin(pi * x) * sin(pi * y) + x**2 - y**2
  end function
  ! kron_boundary_fn: the Dirichlet value at point p of side `side` of axis `axis`
  real(c_double) function g(axis, side, p, context) bind(c)
    integer(c_int), value :: axis, side
    real(c_double), intent(in) :: p(3)
    type(c_ptr), value :: context
    g = exact(p(1), p(2))
  end function
end module

program poisson_f
  use mpi
  use kron
  use boundary_data
  implicit none
  integer :: ierr, rank, ok
  character(len=256) :: dir
  real(c_double) :: err(2), order
  type(c_ptr) :: out, dummy
  integer(c_long) :: n(3)
  real(c_double) :: lower(3), upper(3)
  integer(c_int) :: kind(3)

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  dir = "out_f"
  if (command_argument_count() >= 1) call get_command_argument(1, dir)

  call solve(17_c_long, err(1), .false.)
  call solve(33_c_long, err(2), .true.)
  order = log(err(1) / err(2)) / log(2.0_c_double)

  ! A bad argument: kron returns an error code and says why (nothing printed, nothing aborted).
  n = [0_c_long, 5_c_long, 1_c_long]
  lower = 0; upper = 1; kind = KRON_AXIS_UNIFORM
  ierr = kron_decomp_create_f(MPI_COMM_WORLD, n, lower, upper, kind, 0, 0, dummy)
  ok = merge(1, 0, order > 1.9 .and. err(2) < 1e-3 .and. ierr == KRON_ERROR_ARGUMENT)
  if (rank == 0) then
    print '(a, es10.3, a, es10.3, a, f5.2)', "poisson_f: FD2 Dirichlet on 17^2 and 33^2: max errors ", err(1), ", ", err(2), &
      ", order ", order
    print '(a)', "  a bad grid gives code " // achar(48 + ierr) // ": " // kron_error_message()
    print '(a)', "  output: " // trim(dir) // "/poisson.xdmf"
    if (ok == 1) then
      print '(a)', "poisson_f: ok"
    else
      print '(a)', "poisson_f: FAILED"
    end if
  end if
  call MPI_Finalize(ierr)
  if (ok /= 1) stop 1

contains

  subroutine check(status, what)
    integer(c_int), intent(in) :: status
    character(len=*), intent(in) :: what
    integer :: e
    if (status /= KRON_OK) then
      print '(a)', "poisson_f: " // what // " failed: " // kron_error_message()
      call MPI_Abort(MPI_COMM_WORLD, 1, e)
    end if
  end subroutine

  subroutine solve(m, maxerr, write_output)
    integer(c_long), intent(in) :: m
    real(c_double), intent(out) :: maxerr
    logical, intent(in) :: write_output
    type(c_ptr) :: d, fu, ff, fe, solver
    integer(c_long) :: off(3), ext(3), i, j
    real(c_double), allocatable, target :: u(:,:,:), f(:,:,:), e(:,:,:)
    real(c_double), allocatable :: x(:), y(:)
    integer(c_int) :: bc(3)
    integer :: ierr2

    n = [m, m, 1_c_long]
    lower = [0.0_c_double, 0.0_c_double, 0.0_c_double]
    upper = [1.0_c_double, 1.0_c_double, 0.0_c_double]
    kind = [KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM, KRON_AXIS_UNIFORM]
    call check(kron_decomp_create_f(MPI_COMM_WORLD, n, lower, upper, kind, 0, 0, d), "kron_decomp_create_f")
    call check(kron_decomp_local_box(d, off, ext), "kron_decomp_local_box")
    allocate(x(m), y(m))
    call check(kron_decomp_coordinates(d, 0, x), "kron_decomp_coordinates")
    call check(kron_decomp_coordinates(d, 1, y), "kron_decomp_coordinates")
    allocate(u(ext(1), ext(2), ext(3)), f(ext(1), ext(2), ext(3)), e(ext(1), ext(2), ext(3)))
    u = 0
    do j = 1, ext(2)
      do i = 1, ext(1)
        f(i, j, 1) = -2 * pi**2 * sin(pi * x(off(1) + i)) * sin(pi * y(off(2) + j))
      end do
    end do
    call check(kron_field_wrap(d, c_loc(u), 1, fu), "kron_field_wrap")
    call check(kron_field_wrap(d, c_loc(f), 1, ff), "kron_field_wrap")
    bc = [KRON_BC_DIRICHLET, KRON_BC_DIRICHLET, KRON_BC_PERIODIC]
    call check(kron_poisson_create(d, KRON_SCHEME_FD2, bc, 0.0_c_double, solver), "kron_poisson_create")
    call check(kron_poisson_solve(solver, ff, c_funloc(g), c_null_ptr, fu), "kron_poisson_solve")
    maxerr = 0
    do j = 1, ext(2)
      do i = 1, ext(1)
        e(i, j, 1) = u(i, j, 1) - exact(x(off(1) + i), y(off(2) + j))
        maxerr = max(maxerr, abs(e(i, j, 1)))
      end do
    end do
    call MPI_Allreduce(MPI_IN_PLACE, maxerr, 1, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD, ierr2)
    if (write_output) then
      call check(kron_field_wrap(d, c_loc(e), 1, fe), "kron_field_wrap")
      call check(kron_output_create(d, trim(dir), "poisson", out), "kron_output_create")
      call check(kron_output_write(out, 0, 0.0_c_double, "u,error", [fu, fe]), "kron_output_write")
      call check(kron_output_destroy(out), "kron_output_destroy")
      call check(kron_field_destroy(fe), "kron_field_destroy")
    end if
    call check(kron_poisson_destroy(solver), "kron_poisson_destroy")
    call check(kron_field_destroy(fu), "kron_field_destroy")
    call check(kron_field_destroy(ff), "kron_field_destroy")
    call check(kron_decomp_destroy(d), "kron_decomp_destroy")
  end subroutine
end program
